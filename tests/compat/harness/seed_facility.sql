-- Seed rows for Facility (PostgreSQL database "nilecare_facility"; tables from the service's own
-- database/schema.sql, which already inserts facility 550e8400-...-440000 (KTH-001), department
-- ...440010, ward ...440020 and beds A-101/A-102).
-- Added here: a second facility, more departments and wards, and beds in every interesting state
-- (available, occupied, maintenance, cleaning). ON CONFLICT DO NOTHING keeps reloads harmless.
INSERT INTO facilities (facility_id, organization_id, facility_code, name, type, address, contact, capacity, services, created_by)
VALUES ('550e8400-e29b-41d4-a716-446655440100','550e8400-e29b-41d4-a716-446655440001','OMD-CL-01','Omdurman Family Clinic','clinic',
  '{"street":"Al Arbaeen St","city":"Omdurman","state":"Khartoum","zipCode":"11112","country":"Sudan"}',
  '{"phone":"+249155000100","email":"info@omdclinic.sd"}',
  '{"totalBeds":12,"icuBeds":0,"emergencyBeds":2}','["Primary Care","Pediatrics"]',
  '550e8400-e29b-41d4-a716-446655440002')
ON CONFLICT DO NOTHING;

INSERT INTO departments (department_id, facility_id, name, code, specialization, floor, contact_phone, created_by) VALUES
 ('550e8400-e29b-41d4-a716-446655440011','550e8400-e29b-41d4-a716-446655440000','Intensive Care','ICU','Critical Care',2,'+249123456792','550e8400-e29b-41d4-a716-446655440002'),
 ('550e8400-e29b-41d4-a716-446655440012','550e8400-e29b-41d4-a716-446655440000','Pediatrics','PEDS','Pediatrics',1,'+249123456793','550e8400-e29b-41d4-a716-446655440002'),
 ('550e8400-e29b-41d4-a716-446655440110','550e8400-e29b-41d4-a716-446655440100','General Practice','GP','Family Medicine',0,'+249155000101','550e8400-e29b-41d4-a716-446655440002')
ON CONFLICT DO NOTHING;

INSERT INTO wards (ward_id, facility_id, department_id, name, ward_code, ward_type, floor, total_beds, occupied_beds, available_beds, created_by) VALUES
 ('550e8400-e29b-41d4-a716-446655440021','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440011','ICU Ward 1','ICU-1','icu',2,4,1,2,'550e8400-e29b-41d4-a716-446655440002'),
 ('550e8400-e29b-41d4-a716-446655440022','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440012','Children Ward','PED-1','pediatric',1,2,0,2,'550e8400-e29b-41d4-a716-446655440002'),
 ('550e8400-e29b-41d4-a716-446655440120','550e8400-e29b-41d4-a716-446655440100','550e8400-e29b-41d4-a716-446655440110','Observation Room','OBS-1','general',0,2,0,2,'550e8400-e29b-41d4-a716-446655440002')
ON CONFLICT DO NOTHING;

INSERT INTO beds (bed_id, facility_id, department_id, ward_id, bed_number, bed_type, bed_status, patient_id, assignment_date, location, has_oxygen, has_monitor, has_ventilator, created_by) VALUES
 ('66666666-6666-4666-8666-000000000001','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440011','550e8400-e29b-41d4-a716-446655440021','ICU-01','icu','available',NULL,NULL,'Bay 1',true,true,true,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000002','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440011','550e8400-e29b-41d4-a716-446655440021','ICU-02','icu','occupied','11111111-1111-4111-8111-000000000003',now() - interval '1 day','Bay 2',true,true,true,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000003','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440011','550e8400-e29b-41d4-a716-446655440021','ICU-03','icu','maintenance',NULL,NULL,'Bay 3',true,true,false,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000004','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440011','550e8400-e29b-41d4-a716-446655440021','ICU-04','icu','available',NULL,NULL,'Bay 4',true,true,false,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000005','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440012','550e8400-e29b-41d4-a716-446655440022','P-01','pediatric','available',NULL,NULL,'Room 101',true,false,false,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000006','550e8400-e29b-41d4-a716-446655440000','550e8400-e29b-41d4-a716-446655440012','550e8400-e29b-41d4-a716-446655440022','P-02','pediatric','cleaning',NULL,NULL,'Room 102',false,false,false,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000007','550e8400-e29b-41d4-a716-446655440100','550e8400-e29b-41d4-a716-446655440110','550e8400-e29b-41d4-a716-446655440120','O-1','observation','available',NULL,NULL,'Obs 1',false,true,false,'550e8400-e29b-41d4-a716-446655440002'),
 ('66666666-6666-4666-8666-000000000008','550e8400-e29b-41d4-a716-446655440100','550e8400-e29b-41d4-a716-446655440110','550e8400-e29b-41d4-a716-446655440120','O-2','observation','available',NULL,NULL,'Obs 2',false,false,false,'550e8400-e29b-41d4-a716-446655440002')
ON CONFLICT DO NOTHING;
